#!/bin/sh
# The GPU checks of the segmentation and training issues, run on a lent GPU machine (no network):
# the project and the few packages the image lacks are installed from wheels carried in .whl/.
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target /tmp/site . >/dev/null
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)"
echo "== tests that need CUDA"
python3 -m pytest -q -p no:cacheprovider tests/inference/test_cuda.py 2>&1 | tail -3
echo "== seconds per 512x720 slice on the GPU"
python3 benchmarks/segment_speed.py --device cuda --batch 32 --precision fp32 --precision auto --threads 8
echo "== whole tomograms on the GPU"
python3 benchmarks/segment_tomogram.py --device cuda --batch-size 32 --threads 8
python3 benchmarks/segment_tomogram.py --device cuda --batch-size 32 --threads 8 --architecture vggnet_m
echo "== membrane model trained on the GPU"
python3 benchmarks/membrane_quality.py --device cuda --threads 8 -a unet_lite -a vggnet_m
