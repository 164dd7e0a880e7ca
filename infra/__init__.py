"""Pulumi program that assigns Auth0 users to an Organization on login."""
