"""The summary tables that a notebook prints and the report places, formatted once (no torch: the report uses it).

Each rows function takes the rows a notebook saved in its metrics.json and returns the cells of a Markdown or HTML
table; the headers are constants or functions beside it.
"""

from __future__ import annotations

from typing import Any


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; floats shown with two decimals, anything else as text."""
    def cell(value: Any) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


STUDY_HEADERS = ["latent size", "seeds", "epochs", "validation loss (mean ± sd)", "training loss",
                 "active units (range)"]


def study_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The latent-size study per latent size: seeds, epochs, validation loss ± sd, training loss, active units."""
    return [[row["latent_dim"], row["seeds"], row["epochs"],
             f"{row['validation_loss']:.2f} ± {row['validation_loss_std']:.2f}", row["train_loss"],
             f"{row['active_units']:g} of {row['latent_dim']} ({row['active_units_min']}–{row['active_units_max']})"]
            for row in rows]


def collapse_headers(at_epoch: int) -> list[str]:
    """The collapse table's column headers, naming the epoch the runs are compared at."""
    return ["run", "seed", f"digits at {at_epoch}", f"FD at {at_epoch} (× lowest)", "lowest FD (epoch)",
            f"D(x) at {at_epoch}", f"D(G(z)) at {at_epoch}", "collapse epoch", "at the end: digits / FD (epoch)",
            "at the end, 10,000 samples: IS / FD"]


def collapse_epoch(row: dict[str, Any]) -> str:
    """When a run stopped covering all ten digits for good ('> N': not by epoch N; '–': not recorded)."""
    if row.get("collapse_epoch") is None:
        return "–"
    return str(row["collapse_epoch"]) if row["collapsed"] else f"> {row['collapse_epoch']}"


def collapse_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Per GAN run: what it changes, seed, digits and FD at the common epoch, lowest FD, D outputs, its end."""
    return [[row["label"], row["seed"], row["digits"], f"{row['frechet_distance']:.0f} ({row['frechet_rise']:.1f}×)",
             f"{row['best_frechet_distance']:.0f} ({row['best_epoch']})", f"{row['d_real']:.2f}",
             f"{row['d_fake']:.2f}",
             collapse_epoch(row),
             f"{row['final_digits']} / {row['final_frechet_distance']:.0f} ({row['final_epoch']})"
             if row["final_epoch"] > row["at_epoch"] else "–",
             f"{row['end_inception_score']:.2f} / {row['end_frechet_distance']:.0f}"
             if row.get("end_frechet_distance") is not None else "–"] for row in rows]
