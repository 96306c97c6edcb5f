# Sourced by the benchmark scripts: sets $py to a Python that imports torch and numpy, for the
# PyTorch baseline. STREAMREC_PYTHON names one of your own (a virtualenv with `pip install torch
# numpy`); otherwise /usr/bin/python3, given Debian's python3-torch and python3-numpy, which are
# installed when missing if this runs as root with apt, and asked for otherwise.
py="${STREAMREC_PYTHON:-/usr/bin/python3}"
if ! "$py" -c "import torch, numpy" 2>/dev/null; then
  if [ -n "${STREAMREC_PYTHON:-}" ]; then
    echo "STREAMREC_PYTHON=$py does not import torch and numpy (pip install torch numpy)" >&2
    exit 2
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-torch and python3-numpy (Debian packages)..." >&2
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-numpy >/dev/null
  else
    echo "the PyTorch baseline needs torch and numpy: sudo apt-get install python3-torch python3-numpy," \
      "or STREAMREC_PYTHON=PATH naming a Python that has them (pip install torch numpy)" >&2
    exit 2
  fi
fi
