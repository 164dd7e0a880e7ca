"""A local Auth0 tenant: the Authentication API's token endpoint and the Management API
endpoints this stack's provider and Action call, served over HTTPS on loopback.

Laid out like moto: each Auth0 area has a module of models (state and Auth0's rules, raising
Auth0's errors) and a route table; ``server`` turns HTTP into calls and knows no business rule.
``testing`` is the harness everything outside drives it with.
"""
