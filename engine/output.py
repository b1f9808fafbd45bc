"""Writing tables: every table goes out as CSV and Parquet side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(df: pd.DataFrame, out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    df.to_csv(csv_path, index=False)
    df.to_parquet(out_dir / f"{name}.parquet", index=False)
    return csv_path
