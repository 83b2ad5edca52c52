"""boxcrawl: drive headless Chromium over web pages and turn them into ML data.

>>> import boxcrawl
>>> ds = boxcrawl.open_dataset("out/")
>>> for sample in ds.samples(): ...
>>> ds.to_hf()  # a Hugging Face datasets.Dataset (pip install 'boxcrawl[hf]')
"""

from .write.reader import Dataset, open_dataset

__version__ = "0.1.0"
__all__ = ["Dataset", "__version__", "open_dataset"]
