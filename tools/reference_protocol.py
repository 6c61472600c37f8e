#!/usr/bin/env python3
"""Independent Python reference of the "Language Modeling Is Compression" protocol for classic compressors.

Written from /work/shared/SPEC-LMIC.md sections 2-4 (and the reference code's behaviour it describes), not from
lmac, so that lmac's `eval` can be checked against it. For every WAV file under the given paths:

  * the file becomes a symbol stream (SPEC-LMIC section 2, DESIGN.md section 2):
      --bits 8:  each int16 sample s gives b = ((s >> 8) + 128) % 256; 8-bit (unsigned) PCM is used as it is;
      --bits 16: each int16 sample s gives v = s + 32768, two bytes, high byte first (--byte_order msb) or low
                 byte first (lsb);
      multi-channel files are laid out in blocks of --stereo_blocking_n samples per channel (L R L R ...);
  * each file's stream is cut into --chunk_size byte chunks, the trailing partial chunk dropped;
  * the first --num_chunks chunks over all files (in sorted full-path order) are evaluated.

For each compressor the ratio is SPEC-LMIC section 3 with count_header_only_once=True and no mask:
    compression_ratio = (sum(len(f(chunk))) - header * (k - 1)) / raw,    header = len(f(one zero sample))
    compression_ratio_unchunked = len(f(all chunks joined)) / raw
where k is the number of chunks actually evaluated, raw their total byte count, and "one zero sample" is one
zero symbol of the stream's width (b"\\x00", or b"\\x00\\x00" with --bits 16). The unchunked call and the header
probe use the first file's sample rate.

Compressors (f):
  gzip       gzip.compress(x, 9)
  lzma       lzma.compress(x): xz container, preset 6, CRC64
  png        Pillow, 8-bit greyscale image, width = largest divisor of n <= round(sqrt(n)), height = n / width,
             img.save(buf, 'PNG', optimize=True); in 16-bit mode the stream's bytes form the image all the same
  flac-lmic  pydub, exactly as the reference: AudioSegment(data=x, sample_width=bits/8, frame_rate=rate,
             channels=1).export(buf, format='flac', parameters=['-compression_level', '12']) (runs ffmpeg).
             The reference hard-codes frame_rate=16000; here it is the file's rate (16000 for these files).
             The chunks go to one ffmpeg process per 64 chunks with pydub's exact WAVs and options (same bytes,
             much faster); --flac_lmic_via_pydub calls pydub on every chunk instead.
  flac       the flac CLI on the true waveform: `flac -8 --no-padding --no-seektable` on raw mono input,
             8-bit samples b - 128 (--bps=8), 16-bit samples s (--bps=16), at the file's rate.
Not in the reference, cross-checks of lmac's other baselines:
  bzip2      bz2.compress(x, 9)
  wavpack    the wavpack CLI, `wavpack -hh -x6 -r`, on a mono WAV of the true waveform at the file's rate.

Output JSON: {"config": {...}, "results": {name: {"compression_ratio", "compression_ratio_unchunked",
"raw_bytes", "num_chunks", "compressed_bytes", "unchunked_bytes", "header_length"}}}. Ratios are fractions
(not percent); compressed_bytes is the real sum of the chunk outputs, before the header correction.

Example (the committed fixtures, tests/data/reference_protocol/):
  tools/reference_protocol.py --audio_dir /usr/share/pocketsphinx/test/data --bits 8 \\
      --output_file tests/data/reference_protocol/pocketsphinx_8bit.json
"""

import argparse
import bz2
import concurrent.futures
import gzip
import io
import json
import lzma
import math
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

COMPRESSORS = ("gzip", "lzma", "png", "flac", "flac-lmic", "bzip2", "wavpack")


# ---------------------------------------------------------------------------------------------------------------
# Audio to symbol streams (SPEC-LMIC section 2)

def find_wav_files(paths):
    """Every .wav file below the given paths (files are taken as they are), as absolute paths sorted as strings."""
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(os.path.abspath(path))
            continue
        for root, _, names in os.walk(path):
            found.extend(os.path.abspath(os.path.join(root, n)) for n in names if n.lower().endswith(".wav"))
    if not found:
        sys.exit(f"reference_protocol: no .wav files under {', '.join(paths)}")
    return sorted(found)


def read_wav(path):
    """Returns (samples [frames, channels] as int16 or uint8, sample width in bytes, sample rate)."""
    with wave.open(path, "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width == 2:
        samples = np.frombuffer(frames, dtype="<i2")
    elif width == 1:
        samples = np.frombuffer(frames, dtype=np.uint8)
    else:
        sys.exit(f"reference_protocol: {path}: {8 * width}-bit PCM is not supported (only 8 and 16)")
    return samples.reshape(-1, channels), width, rate


def block_channels(samples, block):
    """[L_0..n) [R_0..n) [L_n..2n) [R_n..2n) ... with n = block samples; mono is unchanged."""
    frames, channels = samples.shape
    if channels == 1:
        return samples[:, 0]
    parts = []
    for start in range(0, frames, block):
        for c in range(channels):
            parts.append(samples[start:start + block, c])
    return np.concatenate(parts)


def symbol_stream(path, bits, byte_order, block):
    samples, width, rate = read_wav(path)
    samples = block_channels(samples, block)
    if bits == 8:
        if width == 1:  # unsigned 8-bit PCM is already a byte stream
            return samples.astype(np.uint8).tobytes(), rate
        s = samples.astype(np.int32)
        return (((s >> 8) + 128) % 256).astype(np.uint8).tobytes(), rate
    if width != 2:
        sys.exit(f"reference_protocol: {path}: --bits 16 needs 16-bit PCM")
    v = (samples.astype(np.int32) + 32768).astype(np.uint16)
    return v.astype(">u2" if byte_order == "msb" else "<u2").tobytes(), rate


def chunks_of(files, bits, byte_order, block, chunk_size, num_chunks):
    """[(chunk bytes, sample rate)]: each file cut separately, partial tails dropped, first num_chunks kept."""
    chunks = []
    for path in files:
        stream, rate = symbol_stream(path, bits, byte_order, block)
        for start in range(0, len(stream) - chunk_size + 1, chunk_size):
            if num_chunks is not None and len(chunks) == num_chunks:
                return chunks
            chunks.append((stream[start:start + chunk_size], rate))
    return chunks


# ---------------------------------------------------------------------------------------------------------------
# Compressors: f(data, rate, bits) -> compressed bytes

def compress_gzip(data, rate, bits):
    return gzip.compress(data, 9)


def compress_lzma(data, rate, bits):
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6)


def compress_bzip2(data, rate, bits):
    return bz2.compress(data, 9)


def compress_png(data, rate, bits):
    from PIL import Image

    n = len(data)
    width = round(math.sqrt(n))  # the reference's _get_the_two_closest_factors
    while n % width > 0:
        width -= 1
    image = Image.frombytes(mode="L", size=(width, n // width), data=data)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def compress_flac_lmic(data, rate, bits):
    from pydub import AudioSegment

    buffer = io.BytesIO()
    AudioSegment(data=data, sample_width=bits // 8, frame_rate=rate, channels=1).export(
        buffer, format="flac", parameters=["-compression_level", "12"])
    return buffer.getvalue()


def pydub_wav(data, rate, bits):
    """The WAV file pydub's export writes for AudioSegment(data, sample_width=bits/8, channels=1): 8-bit data is
    signed to pydub, so it is biased by +128 into WAV's unsigned bytes (audioop.bias(data, 1, 128))."""
    if bits == 8:
        data = ((np.frombuffer(data, dtype=np.uint8).astype(np.int16) + 128) % 256).astype(np.uint8).tobytes()
    wav = io.BytesIO()
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(data)
    return wav.getvalue()


def compress_flac_lmic_batch(items, bits):
    """compress_flac_lmic on many chunks with one ffmpeg process: the same WAV inputs and, for each output, the
    same options as pydub's `ffmpeg -y -f wav -i IN -compression_level 12 -f flac OUT`. Each output has its own
    encoder, so the bytes equal one run per chunk (checked with --flac_lmic_via_pydub); it only saves the start-up
    of hundreds of ffmpeg processes."""
    with tempfile.TemporaryDirectory() as tmp:
        command = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
        for i, (data, rate) in enumerate(items):
            path = os.path.join(tmp, f"{i}.wav")
            with open(path, "wb") as f:
                f.write(pydub_wav(data, rate, bits))
            command += ["-f", "wav", "-i", path]
        for i in range(len(items)):
            command += ["-map", f"{i}:a", "-compression_level", "12", "-f", "flac", os.path.join(tmp, f"{i}.flac")]
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        outputs = []
        for i in range(len(items)):
            with open(os.path.join(tmp, f"{i}.flac"), "rb") as f:
                outputs.append(f.read())
        return outputs


def true_waveform_raw(data, bits, byte_order):
    """Little-endian signed raw PCM of the waveform the stream stands for (what the flac CLI reads)."""
    if bits == 8:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128).astype(np.int8).tobytes()
    v = np.frombuffer(data, dtype=">u2" if byte_order == "msb" else "<u2").astype(np.int32)
    return (v - 32768).astype("<i2").tobytes()


def make_compress_flac(byte_order):
    def compress_flac(data, rate, bits):
        command = ["flac", "-s", "-8", "--no-padding", "--no-seektable", "--force-raw-format", "--endian=little",
                   "--sign=signed", "--channels=1", f"--bps={bits}", f"--sample-rate={rate}", "-c", "-"]
        # stderr only carries "cannot write back MD5 sum when encoding to stdout": the size does not change.
        done = subprocess.run(command, input=true_waveform_raw(data, bits, byte_order), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, check=True)
        return done.stdout
    return compress_flac


def compress_wavpack_cli(data, rate, bits, byte_order):
    """`wavpack -hh -x6 -r` on a mono WAV of the true waveform (a cross-check of lmac's wavpack; not in the
    reference protocol)."""
    pcm = true_waveform_raw(data, bits, byte_order)
    if bits == 8:  # WAV stores 8-bit samples unsigned
        pcm = (np.frombuffer(pcm, dtype=np.int8).astype(np.int16) + 128).astype(np.uint8).tobytes()
    wav = io.BytesIO()
    with wave.open(wav, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(pcm)
    # Piped in and out: the WAV header states the length, so the output equals that of files on disk.
    done = subprocess.run(["wavpack", "-q", "-y", "-hh", "-x6", "-r", "-", "-o", "-"], input=wav.getvalue(),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return done.stdout


def compressor_functions(byte_order):
    return {"gzip": compress_gzip, "lzma": compress_lzma, "png": compress_png, "flac": make_compress_flac(byte_order),
            "flac-lmic": compress_flac_lmic, "bzip2": compress_bzip2,
            "wavpack": lambda data, rate, bits: compress_wavpack_cli(data, rate, bits, byte_order)}


# ---------------------------------------------------------------------------------------------------------------
# The ratios (SPEC-LMIC section 3)

def compress_all(name, compress, items, bits, pool, via_pydub):
    """Sizes of compress(data, rate, bits) for every (data, rate) item."""
    if name == "flac-lmic" and not via_pydub:
        batches = [items[i:i + 64] for i in range(0, len(items), 64)]
        return [len(out) for batch in pool.map(lambda b: compress_flac_lmic_batch(b, bits), batches) for out in batch]
    return list(pool.map(lambda item: len(compress(item[0], item[1], bits)), items))


def evaluate(name, compress, chunks, bits, pool, via_pydub):
    k = len(chunks)
    raw = sum(len(c) for c, _ in chunks)
    first_rate = chunks[0][1]
    sizes = compress_all(name, compress, chunks, bits, pool, via_pydub)
    header = len(compress(bytes(bits // 8), first_rate, bits))
    unchunked = len(compress(b"".join(c for c, _ in chunks), first_rate, bits))
    compressed = sum(sizes)
    return {
        "compression_ratio": (compressed - header * (k - 1)) / raw,
        "compression_ratio_unchunked": unchunked / raw,
        "raw_bytes": raw,
        "num_chunks": k,
        "compressed_bytes": compressed,
        "unchunked_bytes": unchunked,
        "header_length": header,
    }


def write_codec_fixture(directory, files, byte_order):
    """Sizes of single compressor calls for lmac's codec unit tests: one zero sample and one real chunk per width
    (the chunk is stored next to the sizes), from the reference compressors and the wavpack CLI."""
    functions = {name: f for name, f in compressor_functions(byte_order).items() if name != "bzip2"}
    inputs = {}
    for bits in (8, 16):
        chunks = chunks_of(files, bits, byte_order, 1024, 2048, None)
        chunk, rate = chunks[min(10, len(chunks) - 1)]  # a chunk of speech, not of leading silence
        name = f"chunk{bits}.bin"
        with open(os.path.join(directory, name), "wb") as f:
            f.write(chunk)
        inputs[f"zero{bits}"] = {"bits": bits, "rate": rate, "data": bytes(bits // 8), "file": None}
        inputs[f"chunk{bits}"] = {"bits": bits, "rate": rate, "data": chunk, "file": name}
        if bits == 8:
            # The same chunk with the top bit of every byte flipped: flac-lmic's sign-wrapped reading then sees
            # the true waveform, where its encoder settings matter (on chunk8 they hardly change the size).
            flipped = bytes(b ^ 0x80 for b in chunk)
            with open(os.path.join(directory, "chunk8_flipped.bin"), "wb") as f:
                f.write(flipped)
            inputs["chunk8_flipped"] = {"bits": 8, "rate": rate, "data": flipped, "file": "chunk8_flipped.bin"}
    fixture = {"byte_order": byte_order, "source_files": files, "tools": tool_versions(list(functions)),
               "inputs": {}}
    for key, spec in inputs.items():
        sizes = {n: len(f(spec["data"], spec["rate"], spec["bits"])) for n, f in functions.items()}
        fixture["inputs"][key] = {"bits": spec["bits"], "sample_rate": spec["rate"], "file": spec["file"],
                                  "bytes": len(spec["data"]), "sizes": sizes}
    with open(os.path.join(directory, "codec_sizes.json"), "w") as f:
        f.write(json.dumps(fixture, indent=2) + "\n")


def tool_versions(names):
    from importlib import metadata

    versions = {"python": sys.version.split()[0], "zlib": __import__("zlib").ZLIB_RUNTIME_VERSION,
                "numpy": np.__version__}
    if "png" in names:
        versions["Pillow"] = metadata.version("Pillow")
    if "flac-lmic" in names:
        versions["pydub"] = metadata.version("pydub")
        versions["ffmpeg"] = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    if "wavpack" in names:
        versions["wavpack"] = subprocess.run(["wavpack", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    if "flac" in names:
        versions["flac"] = subprocess.run(["flac", "--version"], capture_output=True, text=True).stdout.strip()
    return versions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audio_dir", nargs="+", required=True, help="directories (searched recursively) or files")
    parser.add_argument("--bits", type=int, choices=(8, 16), default=8)
    parser.add_argument("--byte_order", choices=("msb", "lsb"), default="msb")
    parser.add_argument("--stereo_blocking_n", type=int, default=1024)
    parser.add_argument("--chunk_size", type=int, default=2048)
    parser.add_argument("--num_chunks", type=int, default=None, help="default: all")
    parser.add_argument("--compressors", nargs="+", choices=COMPRESSORS, default=list(COMPRESSORS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel chunk compressions")
    parser.add_argument("--output_file", help="default: stdout")
    parser.add_argument("--flac_lmic_via_pydub", action="store_true",
                        help="run pydub's export on every chunk (slow) instead of batching its ffmpeg command")
    parser.add_argument("--codec_fixture", metavar="DIR",
                        help="instead of the protocol, write DIR/codec_sizes.json (+ chunk8.bin, chunk16.bin) for "
                             "lmac's codec unit tests")
    args = parser.parse_args()
    if args.codec_fixture:
        write_codec_fixture(args.codec_fixture, find_wav_files(args.audio_dir), args.byte_order)
        return
    if args.chunk_size <= 0 or args.chunk_size % (args.bits // 8):
        sys.exit("reference_protocol: --chunk_size must be a positive whole number of samples")

    files = find_wav_files(args.audio_dir)
    chunks = chunks_of(files, args.bits, args.byte_order, args.stereo_blocking_n, args.chunk_size, args.num_chunks)
    if not chunks:
        sys.exit("reference_protocol: no whole chunk in the data")
    functions = compressor_functions(args.byte_order)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = {name: evaluate(name, functions[name], chunks, args.bits, pool, args.flac_lmic_via_pydub)
                   for name in args.compressors}

    report = {
        "config": {"bits": args.bits, "byte_order": args.byte_order, "stereo_blocking_n": args.stereo_blocking_n,
                   "chunk_size": args.chunk_size, "num_chunks": args.num_chunks, "files": files,
                   "tools": tool_versions(args.compressors)},
        "results": results,
    }
    text = json.dumps(report, indent=2) + "\n"
    if args.output_file:
        with open(args.output_file, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
