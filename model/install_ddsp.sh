#!/usr/bin/env bash
# Installs magenta's ddsp 3.7.0 into the active Python environment, after
#   pip install -e ".[dev,convert,ddsp]"
# (the extra pins what ddsp needs next to tensorflowjs 4.22 / TensorFlow 2.19).
#
# What a pip requirement cannot say, done here:
# - ddsp 3.7.0 declares tensorflow<=2.11 and numpy<1.24 (no wheels for Python 3.11): it
#   is installed with --no-deps; the extra provides what it imports.
# - crepe (imported at the top of ddsp/spectral_ops.py; ddsp pins crepe<=0.0.12) downloads
#   its five weight files from the network in setup.py, and imports pkg_resources. It is
#   built from its sdist with the download skipped: its weights are only read by
#   ddsp.spectral_ops.compute_f0 (pitch tracking), never when f0 is given, as in export.
#   `crepe.predict` fails with a missing-file error in this install.
#
# The tests that build real ddsp models (tests/model/ddsp_exports.py) need this and
# TF_USE_LEGACY_KERAS=1 (Keras 3 cannot build ddsp's layers); they skip without it.
set -euo pipefail

CREPE=0.0.12
DDSP=3.7.0

if python -c "import importlib.metadata as m; assert m.version('ddsp') == '$DDSP'" 2>/dev/null
then
    echo "ddsp $DDSP is installed"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pip fetches and unpacks crepe's sdist, then fails running its setup.py (the weight
# download); --no-clean keeps the unpacked source in our own temporary folder.
TMPDIR="$work" python -m pip download -q --no-clean --no-deps --no-binary :all: \
    --no-build-isolation -d "$work/dl" "crepe==$CREPE" >"$work/pip.log" 2>&1 || true
src=$(find "$work" -maxdepth 3 -path '*/crepe_*/setup.py' -printf '%h\n' | head -n 1)
if [ -z "$src" ] || ! grep -q "version = '$CREPE'" "$src/crepe/version.py"; then
    echo "install_ddsp: could not fetch the crepe $CREPE sdist:" >&2
    cat "$work/pip.log" >&2
    exit 1
fi
# No weight files: drop the download-and-decompress loop (its list becomes empty).
python - "$src/setup.py" <<'EOF'
import re
import sys

path = sys.argv[1]
text = open(path).read()
new, n = re.subn(r"(?ms)^if len\(sys\.argv\) > 1 and sys\.argv\[1\] == 'sdist':.*?^print",
                 "weight_files = []  # weights not downloaded\n\nprint", text)
if n != 1:
    sys.exit(f"install_ddsp: {path}: the weight download block was not found")
open(path, "w").write(new)
EOF
rm -rf "$src/crepe.egg-info"
python -m pip install -q --no-deps --no-build-isolation "$src" "ddsp==$DDSP"
TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 python -c \
    "import ddsp.training, crepe; print('ddsp', ddsp.__version__, 'crepe', crepe.__version__)"
