//! `lilcom`: compress `.npy` arrays and `.safetensors` checkpoints to a known absolute error.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use lilcom::Format;
use lilcom_cli::commands::{self, CompressArgs};
use lilcom_cli::tensor::TickRule;

/// Error-bounded compression of float arrays and model checkpoints.
///
/// Every float element comes back within half a tick of its value; a tick is 2^tick_power.
#[derive(Parser)]
#[command(name = "lilcom", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compress a .npy array (to one lilcom stream) or a .safetensors checkpoint (to a container).
    ///
    /// Float tensors are stored within half a tick; other tensors of a checkpoint are stored
    /// losslessly; the checkpoint's metadata is kept. Integer .npy arrays are compressed as floats.
    Compress {
        /// Input: a .npy file (float or integer dtype, C or Fortran order) or a .safetensors file.
        input: PathBuf,
        /// Output file; written under a temporary name and renamed when complete.
        output: PathBuf,
        #[command(flatten)]
        tick: TickArgs,
        /// Wire format: tiled (fast, parallel, checksummed) or lilcom (the original L\x00 stream,
        /// float32 only; for .npy arrays).
        #[arg(long, value_enum, default_value_t = FormatArg::Tiled)]
        format: FormatArg,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Decompress lilcom output: a stream to .npy, a checkpoint container to .safetensors.
    Decompress {
        /// A file written by `lilcom compress` (or by the Python packages' compress).
        input: PathBuf,
        /// Output file; written under a temporary name and renamed when complete.
        output: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Describe lilcom output: format, dtype, shape, tick_power, tiles and ratio per tensor.
    ///
    /// For a checkpoint container it reads every payload and checks its checksum.
    Info {
        /// A file written by `lilcom compress` (or by the Python packages' compress).
        input: PathBuf,
    },
}

#[derive(Args)]
#[group(multiple = false)]
struct TickArgs {
    /// Tick power N: values are stored as multiples of 2^N, so each error is at most 2^(N-1).
    /// The default is -8 (error at most 1/512), as in the original lilcom.
    #[arg(long, allow_hyphen_values = true, value_parser = clap::value_parser!(i32).range(-64..=64))]
    tick_power: Option<i32>,
    /// Choose each tensor's tick from its size instead: the largest power-of-two tick whose half
    /// is at most this fraction of the tensor's RMS (e.g. 1e-3).
    #[arg(long, value_parser = parse_fraction)]
    rel_error: Option<f64>,
}

#[derive(Args)]
struct CommonArgs {
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Overwrite OUTPUT if it exists.
    #[arg(long, short)]
    force: bool,
    /// Never show a progress bar (it shows only when stderr is a terminal anyway).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Tiled,
    Lilcom,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{text} is not a positive fraction"))
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Compress { input, output, tick, format, common } => {
            let tick = match (tick.tick_power, tick.rel_error) {
                (_, Some(fraction)) => TickRule::RelativeToRms(fraction),
                (power, None) => TickRule::Fixed(power.unwrap_or(-8)),
            };
            let format = match format {
                FormatArg::Tiled => Format::Tiled,
                FormatArg::Lilcom => Format::Lilcom,
            };
            let args = CompressArgs {
                tick,
                format,
                threads: common.threads.map(usize::from),
                force: common.force,
                progress: !common.quiet,
            };
            let summary = commands::compress(&input, &output, &args)?;
            if !common.quiet {
                eprintln!("{summary}");
            }
        }
        Command::Decompress { input, output, common } => {
            let threads = common.threads.map(usize::from);
            let summary = commands::decompress(&input, &output, threads, common.force, !common.quiet)?;
            if !common.quiet {
                eprintln!("{summary}");
            }
        }
        Command::Info { input } => print!("{}", commands::render_info(&commands::info(&input)?)),
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lilcom: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
