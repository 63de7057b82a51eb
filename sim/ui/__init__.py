"""The web app's components (Solara). ``app.py`` at the top level wires the pages together.

Layers: the UI imports :mod:`sim.runs`, :mod:`sim.analysis`, :mod:`sim.inputs` and
:mod:`sim.simulate` / :mod:`sim.model`; nothing in the model imports the UI.
"""
