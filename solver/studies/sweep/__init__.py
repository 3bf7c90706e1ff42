"""Sweeps over a grid of overrides and trade-off curves (frontier) on one persistent model."""
