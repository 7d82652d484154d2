#!/usr/bin/env bash
# Creates tools/.venv with the Python reference stack (PyTorch CPU, transformers, scikit-learn, scipy).
# Idempotent: an existing venv whose packages import is left as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/../.venv"
py="${PYTHON:-python3}"
check() { "$venv/bin/python" -c 'import torch, transformers, safetensors, sentence_transformers, sklearn, scipy, onnxruntime; assert transformers.__version__ == "5.18.0", transformers.__version__' 2>/dev/null; }
if [ -x "$venv/bin/python" ] && check; then
  echo "[setup-venv] $venv is ready"; exit 0
fi
echo "[setup-venv] creating $venv"
"$py" -m venv "$venv"
# machines without internet but with a local index print a retry warning per package for the
# unreachable default index: filter those lines, keep everything else (and pip's exit status)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries 1 -r "$here/requirements.txt" 2>&1 \
  | { grep -vE "Retrying \(Retry|is ignored: it is neither a file nor a directory" || true; }
check || { echo "[setup-venv] error: the reference stack does not import after install" >&2; exit 1; }
"$venv/bin/python" -c 'import torch, transformers; print("[setup-venv] ready: torch", torch.__version__, "transformers", transformers.__version__)'
