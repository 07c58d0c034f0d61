#!/usr/bin/env python3
"""Generates the benchmark corpus: real speech features (synthesized with espeak-ng) and the
synthetic arrays BRIEF lists, as .npy files with a manifest of tick powers.

    apt-get install espeak-ng sox
    python3 benches/corpus.py --sample data/fbank_sample.npy     # the sample the repo ships
    python3 benches/corpus.py --out /tmp/corpus                  # the whole corpus

Speech is synthesized at espeak-ng's rate, resampled to 16 kHz by sox, and turned into
lhotse/Kaldi-style log mel filterbank features: 25 ms Hamming frames every 10 ms, 512-point FFT,
80 triangular mel bins between 20 Hz and 8 kHz, natural log of the energies, float32, shape
(frames, 80). Only numpy and the standard library are used.
"""

import argparse
import os
import subprocess
import tempfile
import wave

import numpy as np

SAMPLE_RATE = 16000
FRAME = 400  # 25 ms
HOP = 160  # 10 ms
FFT = 512
MEL_BINS = 80

TEXTS = [
    "Lilcom compresses arrays of floating point numbers to a known absolute error.",
    "Speech recognition pipelines store filter bank features of every utterance they train on.",
    "The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly.",
    "A data loader reads these features many times, so decoding has to be fast.",
    "Numbers such as three hundred and twelve, or nineteen eighty four, are read aloud too.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Every file that was ever written must still open, and give back the same values.",
    "Compression ratio, error and speed are measured side by side against the original.",
]


def synthesize(text: str, voice: str, speed: int) -> np.ndarray:
    """Speech for `text` as float samples at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.wav")
        out = os.path.join(tmp, "16k.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", raw, text], check=True)
        subprocess.run(["sox", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", out], check=True)
        with wave.open(out, "rb") as w:
            assert w.getframerate() == SAMPLE_RATE and w.getsampwidth() == 2
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return pcm.astype(np.float64)


def mel(hz):
    return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)


def mel_filterbank() -> np.ndarray:
    """(MEL_BINS, FFT // 2 + 1) triangular filters, equally spaced on the mel scale."""
    edges = np.linspace(mel(20.0), mel(SAMPLE_RATE / 2), MEL_BINS + 2)
    freqs = mel(np.arange(FFT // 2 + 1) * SAMPLE_RATE / FFT)
    bank = np.zeros((MEL_BINS, FFT // 2 + 1))
    for m in range(MEL_BINS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        bank[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


def fbank(samples: np.ndarray) -> np.ndarray:
    """Log mel filterbank energies, (frames, MEL_BINS) float32."""
    count = 1 + (len(samples) - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
    frames = samples[index]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1], frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    frames = frames * np.hamming(FRAME)[None, :]
    power = np.abs(np.fft.rfft(frames, n=FFT)) ** 2
    energies = power @ mel_filterbank().T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)


def speech_features(seconds_wanted: float) -> np.ndarray:
    """Features of several voices and speeds reading TEXTS, concatenated along time."""
    voices = [("en", 150), ("en-us", 170), ("en+f3", 140), ("en-gb", 160)]
    parts, total = [], 0.0
    for i in range(10_000):
        voice, speed = voices[i % len(voices)]
        samples = synthesize(TEXTS[i % len(TEXTS)], voice, speed)
        parts.append(samples)
        total += len(samples) / SAMPLE_RATE
        if total >= seconds_wanted:
            break
    return fbank(np.concatenate(parts))


def synthetic(rng):
    """The synthetic datasets: name -> (array, tick_power)."""
    g = np.indices((96, 96, 96)).astype(np.float64) / 96.0
    field = (np.sin(2 * np.pi * (g[0] + 0.5 * g[1])) * np.cos(3 * np.pi * g[2]) + 0.3 * g[0] * g[1]
             + rng.standard_normal((96, 96, 96)) * 1e-3)
    large = np.cumsum(rng.standard_normal((4096, 4096)).astype(np.float32) * 0.01, axis=1)
    return {
        "randn_300x500": (rng.standard_normal((300, 500)).astype(np.float32), -8),
        "random_walk_1M_f64": (np.cumsum(rng.standard_normal(1_000_000)), -4),
        "smooth_field_96cubed": (field.astype(np.float32), -10),
        "weights_heavy_tailed_1024x1024": ((rng.standard_t(3, size=(1024, 1024)) * 0.02).astype(np.float32), -12),
        "large_4096x4096": (large, -8),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", help="write the shipped sample: (frames, 80) float32 .npy")
    parser.add_argument("--out", help="write the whole corpus into this directory")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of speech for --sample (default 15)")
    args = parser.parse_args()
    if args.sample:
        features = speech_features(args.seconds)
        np.save(args.sample, features)
        print(f"wrote {args.sample}: {features.shape} {features.dtype}, "
              f"range {features.min():.2f}..{features.max():.2f}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        datasets = synthetic(np.random.default_rng(20261124))
        datasets["fbank_speech"] = (speech_features(105.0), -5)
        with open(os.path.join(args.out, "manifest.tsv"), "w") as manifest:
            for name, (array, tick_power) in datasets.items():
                np.save(os.path.join(args.out, name + ".npy"), array)
                manifest.write(f"{name}\t{tick_power}\n")
                print(f"wrote {name}: {array.shape} {array.dtype}, tick_power {tick_power}")
    if not (args.sample or args.out):
        parser.error("give --sample, --out or both")


if __name__ == "__main__":
    main()
