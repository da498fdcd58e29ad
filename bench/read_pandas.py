"""The pandas side of the import benchmark: merely reading the payment sheet.

    python bench/read_pandas.py FILE.xlsx openpyxl|calamine
"""
import sys
import time

import pandas as pd

path, engine = sys.argv[1], sys.argv[2]
start = time.perf_counter()
df = pd.read_excel(path, engine=engine, header=1, dtype=str)
secs = time.perf_counter() - start
print(f"{len(df)} rows in {secs:.2f} s: {len(df) / secs:.0f} rows/s ({engine})")
