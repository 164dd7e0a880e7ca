"""A Pulumi policy pack for any Pulumi program that manages Auth0 (``pulumi preview
--policy-pack policy_pack``): ``policies`` holds the rules, ``analyzer`` serves them."""
