"""The product run on this machine: ``local_stack`` drives the real Pulumi engine against a local
tenant (the lifecycle tests, their benchmark and ``scripts/local-up``), ``demo`` is
``scripts/local-up`` itself."""
