"""Labeling web app: distilled-page screenshots in, durable human labels out."""
