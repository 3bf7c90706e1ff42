"""``coalition generate``: synthetic cases for scale tests."""

from __future__ import annotations

from pathlib import Path

import click

from solver.cli.common import (
    echo,
    handle_errors,
)


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", type=click.Choice(["S", "M", "L"], case_sensitive=False), default=None,
              help="A named size: S (~10k flow variables), M (~100k) or L (~1M). Explicit "
                   "--partners, --layers and --members override its numbers.")
@click.option("--partners", type=click.IntRange(min=1), default=None,
              help="Number of partners, members included (default: the size's, else 20).")
@click.option("--layers", type=click.IntRange(min=1), default=None,
              help="Number of stack layers (default: the size's, else 6).")
@click.option("--members", type=click.IntRange(min=1), default=None,
              help="Number of coalition members, who carry demand (default: the size's, "
                   "else 8).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Random seed: the same arguments give byte-identical files.")
@click.option("--force", is_flag=True, help="Replace the case files if OUT_DIR has them.")
@handle_errors
def generate(out_dir: Path, size: str | None, partners: int | None, layers: int | None,
             members: int | None, seed: int, force: bool) -> None:
    """Write a synthetic case folder for scale tests, feasible by construction.

    Sparse capabilities, trust tiers, forbidden routes and binding shares, drawn from SEED.

    \b
    Example:
      coalition generate --size M --seed 1 cases/m1
      coalition generate --partners 50 --layers 10 --members 20 --seed 7 cases/small
    """
    from solver.case.generate import SIZES, Size, generate_case

    base = SIZES[size.upper()] if size else Size(partners=20, layers=6, members=8)
    if not force and out_dir.is_dir() and any(out_dir.glob("*.csv")):
        raise click.UsageError(f"{out_dir} already holds case files; pass --force to "
                               "replace them")
    folder = generate_case(partners or base.partners, layers or base.layers,
                           members or base.members, seed, out_dir)
    echo(f"written: {folder} ({partners or base.partners} partners, "
          f"{layers or base.layers} layers, {members or base.members} members, seed {seed})")
