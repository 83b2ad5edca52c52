"""boxcrawl: drive headless Chromium over web pages and turn them into ML data.

>>> import boxcrawl
>>> ds = boxcrawl.open_dataset("out/")
>>> for sample in ds.samples(): ...
>>> ds.to_hf()  # a Hugging Face datasets.Dataset (pip install 'boxcrawl[hf]')
>>> boxcrawl.plain_text(next(ds.pages())["text"])  # the words, whitespace normalised
"""

from .write.reader import Dataset, open_dataset, plain_text

__version__ = "0.1.0"
__all__ = ["Dataset", "__version__", "open_dataset", "plain_text"]
