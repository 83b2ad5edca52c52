"""Opt-out signals: what a site says about using its pages for AI training, and the decision."""
