"""What a tagged file holds: theme counts and shares, rows with no theme, and co-occurrence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from themetag.atomic import write_text, write_with


class TagSummary:
    """Accumulates over chunks, so a file of any length is summarised in bounded memory."""

    def __init__(self, themes: list[str]):
        self.themes = themes
        self.rows = 0
        self.no_theme = 0
        self.co = np.zeros((len(themes), len(themes)), dtype=np.int64)  # diagonal = theme counts

    def add(self, hits: np.ndarray) -> None:
        """``hits``: boolean matrix, rows x themes."""
        h = hits.astype(np.int64)
        self.rows += len(h)
        self.no_theme += int((h.sum(axis=1) == 0).sum())
        self.co += h.T @ h

    def markdown(self) -> str:
        from tabulate import tabulate

        n = max(self.rows, 1)
        counts = [[t, int(self.co[i, i]), self.co[i, i] / n] for i, t in enumerate(self.themes)]
        counts.append(["(no theme)", self.no_theme, self.no_theme / n])
        co_rows = [[t, *map(int, self.co[i])] for i, t in enumerate(self.themes)]
        return (
            f"# Tagged rows: {self.rows}\n\n"
            + tabulate(counts, ["theme", "rows", "share"], tablefmt="github", floatfmt=".3f")
            + "\n\n## Co-occurrence (rows tagged with both; the diagonal is each theme's count)\n\n"
            + tabulate(co_rows, ["", *self.themes], tablefmt="github")
            + "\n"
        )

    def heatmap(self, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(self.themes), 1 + 0.6 * len(self.themes)))
        im = ax.imshow(self.co, cmap="Blues")
        ax.set_xticks(range(len(self.themes)), self.themes, rotation=45, ha="right")
        ax.set_yticks(range(len(self.themes)), self.themes)
        for (i, j), v in np.ndenumerate(self.co):
            ax.text(
                j, i, str(v), ha="center", va="center", fontsize=8, color="white" if v > self.co.max() / 2 else "black"
            )
        ax.set_title(f"Theme co-occurrence, {self.rows} rows")
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        write_with(path, lambda p: fig.savefig(p, format="png", dpi=100))
        plt.close(fig)

    def write(self, markdown_path: Path) -> Path:
        write_text(markdown_path, self.markdown())
        png = markdown_path.with_suffix(".png")
        self.heatmap(png)
        return png
