"""Tests of the policy calculator."""
