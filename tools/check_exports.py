"""Load an artefact build the way its users do, and fail loudly if anything is off.

- Hugging Face `datasets`: `load_dataset("imagefolder", data_dir=<out>/hf/<config>)` for the
  perception, reasoning and pairs configs; every row must decode its image column(s).
  (`datasets` names the `dev` split `validation`.)
- VLMEvalKit: its TSV loader is `pandas.read_csv(path, sep="\t")` with default NA handling, and
  the MedQ-Bench MCQ prompt keeps only options that are not NaN and not blank. Every MCQ row's
  answer letter must survive that (an option text such as "None" would be read as NaN and
  silently dropped), every image cell must decode (paired cells are a Python list literal of two
  base64 strings; an MCQ cell of <= 64 characters names the row holding its image, as
  VLMEvalKit resolves it).

Usage: python tools/check_exports.py OUT_DIR
"""
import ast
import base64
import glob
import io
import os
import sys

import pandas as pd
from datasets import load_dataset
from PIL import Image


def main(out: str) -> None:
    for cfg in ["perception", "reasoning", "pairs"]:
        ds = load_dataset("imagefolder", data_dir=os.path.join(out, "hf", cfg))
        for split, d in ds.items():
            image_cols = [c for c in d.column_names if c == "image" or c.startswith("image_")]
            image_cols = [c for c in image_cols if not c.endswith("_id")]
            for row in d:
                for c in image_cols:
                    assert isinstance(row[c], Image.Image), (cfg, split, c)
            print(f"hf/{cfg} {split}: {len(d)} rows, image columns {image_cols}")
    tsvs = sorted(glob.glob(os.path.join(out, "vlmevalkit", "*.tsv")))
    assert tsvs, "no TSVs"
    for tsv in tsvs:
        df = pd.read_csv(tsv, sep="\t")
        n = 0
        # VLMEvalKit's rule: an image cell of <= 64 characters is the index of the row that
        # holds the image (MCQ TSVs name each image once)
        cells = {str(i): str(c) for i, c in zip(df["index"], df["image"])}
        for cell in df["image"].astype(str):
            if len(cell) <= 64:
                assert cell in cells and len(cells[cell]) > 64, f"{tsv}: dangling image reference {cell}"
                cell = cells[cell]
            for b64 in ast.literal_eval(cell) if cell.startswith("[") else [cell]:
                Image.open(io.BytesIO(base64.b64decode(b64))).load()
                n += 1
        if "answer" in df:
            for _, r in df.iterrows():
                kept = [k for k in "ABCD" if k in r and pd.notna(r[k]) and str(r[k]).strip()]
                assert r["answer"] in kept, f"{tsv}: row {r['index']} loses its answer option"
                assert pd.notna(r["question"]), f"{tsv}: row {r['index']} question is NaN"
        print(f"{os.path.basename(tsv)}: {df.shape[0]} rows, columns {list(df.columns)}, {n} images decoded")
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1])
