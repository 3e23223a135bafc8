"""The floor every wing stands on, torch-free: the run files' names and safe writes, the checkout's paths,
tables formatted once, and the writeup's and the literature's reference numbers."""
