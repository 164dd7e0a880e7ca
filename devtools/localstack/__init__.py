"""The product run locally, for tests, benchmarks and the demo.

``local_stack``: the real Pulumi engine against a local tenant (the lifecycle tests, their
benchmark). ``action_runner``: the rendered Action in Node against a local tenant set up as the
stack sets it up, with no engine. ``pulumi_mocks``: the program under Pulumi's mocks, with no
engine and no tenant. ``demo``: ``scripts/local-up``. The local tenant itself is driven through
``devtools.localtenant.testing``.
"""
