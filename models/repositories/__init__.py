"""All queries live here; services call these and never write SQL of their own."""
