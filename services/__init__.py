"""Domain services the API, the console and the workers share: they load through repositories,
apply the rules, and never commit (the request, task or command boundary does)."""
