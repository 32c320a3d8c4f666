"""Training throughput (images/s at 256x256 crops) of an experiment preset, against a baseline.

The preset (default ``deblurganv2_mobilenet``: FPN-MobileNetV2 at the published width,
double-scale RaGAN-LS critic, 0.5 MSE + 0.006 perceptual + 0.01 adversarial) trains through the
real path — ``GANModule`` under a Lightning ``Trainer`` — on in-memory random 256x256 pairs, so
the figure is the GAN step itself without data loading. The baseline, measured in the same run,
is the same generator trained with L1 alone (no critic, no perceptual network): the ratio is
the cost of the adversarial recipe. Perceptual networks use random weights (same cost as
ImageNet ones). The first ``--warmup`` GAN steps are not timed; on a GPU the clock waits for the
device (``torch.cuda.synchronize``).

    python benchmarks/training_throughput.py                         # CPU, 2 threads
    python benchmarks/training_throughput.py --device gpu --batch 8 --steps 50
    python benchmarks/training_throughput.py --preset deblurgan --steps 3
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
import warnings
from typing import Any

import torch

from deblurgan.cli.arguments import positive_int


def _compose(preset: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from deblurgan.training.cli import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"experiment={preset}", "data.root=unused"])
    container = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(container, dict)
    return container


def _measure(
    module_kwargs: dict[str, Any],
    *,
    batch: int,
    size: int,
    steps: int,
    warmup: int,
    device: str,
    precision: str,
) -> list[float]:
    """Seconds per GAN step of ``steps`` timed steps."""
    import lightning as L
    from torch.utils.data import DataLoader

    from deblurgan.training import GANModule

    module = GANModule(**module_kwargs)
    micro = module.micro_batches
    generator = torch.Generator().manual_seed(0)
    items = [
        {
            "blurry": torch.rand(3, size, size, generator=generator),
            "sharp": torch.rand(3, size, size, generator=generator),
        }
        for _ in range(batch * micro)
    ]
    loader = DataLoader(items * (steps + warmup), batch_size=batch * micro, shuffle=False)
    times: list[float] = []

    class Clock(L.Callback):
        start = 0.0

        def _sync(self) -> None:
            if device == "gpu":
                torch.cuda.synchronize()

        def on_train_batch_start(self, *args: Any) -> None:
            self._sync()
            self.start = time.perf_counter()

        def on_train_batch_end(self, *args: Any) -> None:
            self._sync()
            times.append(time.perf_counter() - self.start)

    trainer = L.Trainer(
        accelerator=device,
        devices=1,
        precision=precision,  # type: ignore[arg-type]
        max_steps=(steps + warmup) * module.optimizer_steps_per_batch,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Clock()],
    )
    trainer.fit(module, train_dataloaders=loader)
    return times[warmup:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="deblurganv2_mobilenet")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--batch", type=positive_int, default=1, help="images per update")
    parser.add_argument("--size", type=positive_int, default=256)
    parser.add_argument("--steps", type=positive_int, default=5, help="timed GAN steps")
    parser.add_argument("--warmup", type=positive_int, default=2)
    parser.add_argument("--precision", default="32-true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("deblurgan").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")

    cfg = _compose(args.preset)
    optim = {k: v for k, v in cfg["optim"].items() if k not in ("backbone_warmup",)}
    recipe = {
        "generator": cfg["generator"],
        "discriminator": cfg["discriminator"],
        "adversarial": cfg["adversarial"],
        "content": cfg["content"],
        **optim,
    }
    baseline = {"generator": cfg["generator"], "discriminator": None, "content": {"l1": 1.0}}
    common = {
        "batch": args.batch,
        "size": args.size,
        "steps": args.steps,
        "warmup": args.warmup,
        "device": args.device,
        "precision": args.precision,
    }
    device_name = (
        torch.cuda.get_device_name()
        if args.device == "gpu"
        else f"{platform.machine()}, {torch.get_num_threads()} threads"
    )
    print(
        f"training throughput, {args.size}x{args.size} crops, batch {args.batch}, "
        f"{args.device} ({device_name}), {args.precision}, "
        f"median of {args.steps} GAN steps after {args.warmup} untimed"
    )
    results = {}
    for label, kwargs in (("baseline", baseline), (args.preset, recipe)):
        seconds = statistics.median(_measure(kwargs, **common))
        results[label] = seconds
        print(
            f"  {label:<24} {seconds * 1000:9.1f} ms/step  {args.batch / seconds:7.2f} images/s"
            + ("" if label == "baseline" else f"  {seconds / results['baseline']:.2f}x baseline")
        )
    print(
        f"baseline = {cfg['generator']['name']} with L1 only (no critic, no perceptual loss); "
        f"{args.preset} = the preset's generator, critic, objective and content losses"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
