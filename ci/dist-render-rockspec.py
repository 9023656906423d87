#!/usr/bin/env python3
"""Renders the release rockspecs from the templates in rockspecs/ and a release's .sha256 files.

    python3 ci/dist-render-rockspec.py --checksums DIR --out-dir OUT [--version 0.1.0]
        [--base-url URL] [--source-url URL] [--source-dir NAME] [--targets T1,T2] [--verify]
    python3 ci/dist-render-rockspec.py --luarocks-version 0.2.0-rc.1     (prints 0.2.0rc1)

Writes OUT/module-enet-<rv>-1.rockspec (one pinned SHA-256 per archive) and
OUT/luarocks-build-module-enet-<rv>-1.rockspec, where <rv> is the LuaRocks form of the Cargo
version (rockspec versions must match `[%w.]+-%d+`: 0.2.0-rc.1 becomes 0.2.0rc1; pre-release
words other than alpha, beta, pre and rc are refused, because LuaRocks would sort them above
the release). The defaults point at the GitHub release of `v<version>` of the repository named
in Cargo.toml. It refuses to render unless DIR holds
exactly one .sha256 per flavour x target (all five targets unless --targets narrows them), so a
release with a missing or stray archive cannot be published. --verify also hashes each archive
found next to its .sha256 file.
"""

import argparse
import hashlib
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAVOURS = ["lua51", "lua52", "lua53", "lua54", "lua55", "luajit"]
TARGETS = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
]


def luarocks_version(version: str) -> str:
    """The rockspec version of a Cargo version; luarocks/build/module-enet.lua has the same rule."""
    m = re.fullmatch(r"(\d+\.\d+\.\d+)(?:-(alpha|beta|pre|rc)\.?(\d*))?", version)
    if not m:
        sys.exit(f"dist-render-rockspec: no LuaRocks version for {version!r} "
                 "(use X.Y.Z or X.Y.Z-<alpha|beta|pre|rc>[.N])")
    return m.group(1) + (m.group(2) or "") + (m.group(3) or "")


def archive_name(flavour: str, target: str) -> str:
    ext = ".zip" if "windows" in target else ".tar.gz"
    return f"module-enet-{flavour}-{target}{ext}"


def expected_archives(targets: list[str]) -> dict[str, str]:
    """Archive file name -> "<flavour>-<target>" key the build back-end looks up."""
    return {archive_name(f, t): f"{f}-{t}" for f in FLAVOURS for t in targets}


def read_checksums(directory: pathlib.Path, targets: list[str], verify: bool) -> dict[str, tuple[str, str]]:
    expected = expected_archives(targets)
    found: dict[str, tuple[str, str]] = {}
    errors = []
    for sha_file in sorted(directory.glob("module-enet-*.sha256")):
        text = sha_file.read_text(encoding="utf-8").strip()
        m = re.fullmatch(r"([0-9a-fA-F]{64})\s+\*?(\S+)", text)
        if not m:
            errors.append(f"{sha_file.name}: not '<sha256> <file>': {text!r}")
            continue
        digest, name = m.group(1).lower(), pathlib.PurePath(m.group(2)).name
        if sha_file.name != name + ".sha256":
            errors.append(f"{sha_file.name} names {name}")
            continue
        if name not in expected:
            errors.append(f"unexpected archive {name}")
            continue
        if verify:
            archive = directory / name
            if not archive.exists():
                errors.append(f"--verify: {name} is missing")
                continue
            actual = hashlib.sha256(archive.read_bytes()).hexdigest()
            if actual != digest:
                errors.append(f"--verify: {name} hashes to {actual}, {sha_file.name} says {digest}")
                continue
        found[name] = (expected[name], digest)
    missing = sorted(set(expected) - set(found))
    errors += [f"missing {name}.sha256" for name in missing]
    if errors:
        sys.exit("dist-render-rockspec: " + "\n  ".join(["refusing to render:"] + errors))
    return found


def render(template: pathlib.Path, values: dict[str, str]) -> str:
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        sys.exit(f"dist-render-rockspec: {template.name}: unfilled {sorted(set(left))}")
    return text


def main() -> None:
    meta = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    repo = meta["repository"].rstrip("/")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--luarocks-version", metavar="VERSION", help="print the LuaRocks form of VERSION and exit")
    ap.add_argument("--checksums", type=pathlib.Path, help="directory with the .sha256 files")
    ap.add_argument("--out-dir", type=pathlib.Path)
    ap.add_argument("--version", default=meta["version"])
    ap.add_argument("--base-url", help="where the archives are (default: the GitHub release)")
    ap.add_argument("--source-url", help="source tarball (default: the tag's GitHub tarball)")
    ap.add_argument("--source-dir", help="top directory inside the source tarball")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated subset of targets")
    ap.add_argument("--verify", action="store_true", help="hash the archives next to the .sha256 files too")
    args = ap.parse_args()
    if args.luarocks_version:
        print(luarocks_version(args.luarocks_version.removeprefix("v")))
        return
    if not args.checksums or not args.out_dir:
        ap.error("--checksums and --out-dir are required")

    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"dist-render-rockspec: unknown targets {unknown}")
    version = args.version.removeprefix("v")
    rock_version = luarocks_version(version)
    tag = f"v{version}"
    sums = read_checksums(args.checksums, targets, args.verify)
    lines = []
    for name, (key, digest) in sorted(sums.items(), key=lambda kv: kv[1][0]):
        lines.append(f'      ["{key}"] = {{ file = "{name}", sha256 = "{digest}" }},')
    values = {
        "VERSION": rock_version,
        "BASE_URL": args.base_url or f"{repo}/releases/download/{tag}",
        "SOURCE_URL": args.source_url or f"{repo}/archive/refs/tags/{tag}.tar.gz",
        "SOURCE_DIR": args.source_dir or f"{repo.rsplit('/', 1)[-1]}-{version}",
        "ARCHIVES": "\n".join(lines),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for stem in ["module-enet", "luarocks-build-module-enet"]:
        out = args.out_dir / f"{stem}-{rock_version}-1.rockspec"
        out.write_text(render(ROOT / "rockspecs" / f"{stem}.rockspec.in", values), encoding="utf-8")
        print(out)
    print(f"dist-render-rockspec: {len(sums)} archives pinned", file=sys.stderr)


if __name__ == "__main__":
    main()
