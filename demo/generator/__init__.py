"""A deterministic generator of a fictional science-and-technology finance service center."""

from demo.generator.center import generate_center

__all__ = ["generate_center"]
