"""Input files and the keys they use, one home per job.

- :mod:`sim.inputs.keys` — the one resolver of parameter keys (``trust_gain``, ``A.price``,
  ``merchants[1].price``) and :func:`~sim.inputs.keys.params_from_keys`;
- :mod:`sim.inputs.hints` — the one "did you mean" (:func:`~sim.inputs.hints.did_you_mean`);
- :mod:`sim.inputs.toml_lines` — the one TOML line locator (:class:`~sim.inputs.toml_lines.TomlLines`);
- :mod:`sim.inputs.scenario` — scenario files: parse, load, list, write back;
- :mod:`sim.inputs.overrides` — the ``--set KEY=VALUE`` grammar applied to a scenario;
- :mod:`sim.inputs.experiment` — experiment files (a base scenario, varied parameters, a design).

Layers: ``hints`` and ``toml_lines`` import nothing of the project; ``keys`` imports only
:mod:`sim.params` (the model imports it); ``scenario`` and ``overrides`` sit on :mod:`sim.simulate`;
``experiment`` builds :class:`sim.runs.design.Experiment` objects. This package's ``__init__``
imports none of them, so that importing :mod:`sim.inputs.keys` from the model pulls in nothing else.
"""
