#!/usr/bin/env python3
"""Runs ONNX's own checker, with full shape inference, on every .onnx file under the given folders.

Used by .ci/run on the models the test suite exported (target/exported-models): graft's exporter must
write files that ONNX itself accepts, not only files ONNX Runtime happens to load. Debian's python3-onnx
(1.12) knows opsets up to 17 and IR version 8, which is graft's default export.
Exit status 1 when any file fails, 2 when there is no file to check.
"""
import pathlib
import sys

import onnx


def main(folders):
    files = sorted(p for f in folders for p in pathlib.Path(f).rglob("*.onnx"))
    if not files:
        print("check_onnx_models: no .onnx file under", folders, file=sys.stderr)
        return 2
    failed = 0
    for path in files:
        try:
            model = onnx.load(str(path))
            onnx.checker.check_model(model, full_check=True)
            print(f"ok      {path} (opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")
        except Exception as e:  # the checker raises several types; all mean the file is not valid
            failed += 1
            print(f"INVALID {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    print(f"{len(files) - failed} of {len(files)} exported models pass onnx.checker (full_check=True)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["target/exported-models"]))
