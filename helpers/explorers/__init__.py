"""Explorers: ipywidgets sliders over the trained models, and the data of the report's kernel-free twins."""
