//! Output files that appear under their final name only when complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tempfile::NamedTempFile;

/// A file being written under a temporary name in the destination's directory. Dropping it
/// without [`AtomicOutput::commit`] deletes the temporary file, so a failed command leaves
/// nothing behind and never a half-written file under the final name.
pub struct AtomicOutput {
    temp: BufWriter<NamedTempFile>,
    path: PathBuf,
    overwrite: bool,
}

impl AtomicOutput {
    /// Refuses an existing `path` unless `overwrite`; otherwise opens a temporary file beside it.
    pub fn create(path: &Path, overwrite: bool) -> Result<Self> {
        if !overwrite && path.exists() {
            bail!("{} exists; pass --force to overwrite it", path.display());
        }
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        // Temporary files are private by default; the output should get the mode any new file
        // gets (0666 less the umask), as `cp` or numpy would give it.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(dir).with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(AtomicOutput { temp: BufWriter::with_capacity(1 << 20, temp), path: path.to_owned(), overwrite })
    }

    /// Flushes, syncs and renames the file to its final name.
    pub fn commit(self) -> Result<()> {
        let temp = self.temp.into_inner().map_err(|e| e.into_error())?;
        temp.as_file().sync_all()?;
        let persisted = if self.overwrite { temp.persist(&self.path) } else { temp.persist_noclobber(&self.path) };
        persisted.map_err(|e| e.error).with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

/// Opens an input file for reading, with its name in the error.
pub fn open_input(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}
