#!/usr/bin/env bash
# Debian packages for the reference oracles: PyTorch (python3-torch serves /usr/bin/python3), numpy, jinja2,
# scikit-learn (eval's metrics oracle), the OpenBLAS OpenMP build the PyTorch peer benchmark uses, the DejaVu fonts
# the training plots draw their text with (ScottPlot/SkiaSharp finds fonts in /usr/share/fonts), and chromium, the
# headless browser that opens `sharptune report`'s HTML in tests (console errors, screenshot, drawn plots). Installs
# only what is missing.
set -euo pipefail
pkgs=(python3-torch python3-numpy python3-jinja2 python3-sklearn libopenblas0-openmp fonts-dejavu-core chromium nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  if [[ "$p" == nodejs || "$p" == npm ]]; then command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
/usr/bin/python3 -c "import torch, numpy, jinja2, sklearn; print('python oracles: torch', torch.__version__, 'jinja2', jinja2.__version__, 'sklearn', sklearn.__version__)"
chromium --version 2>/dev/null
