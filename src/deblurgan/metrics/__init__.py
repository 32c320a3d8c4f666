"""Metrics on (B, C, H, W) images in [0, 1]."""
