"""``python -m auth0_org_assignment.commands``: the ``auth0-org-assignment`` console script."""

import sys

from auth0_org_assignment.commands import main

sys.exit(main())
