"""pytest plugin (entry point `pytest11`): the `loyalty_gateway` fixture. Filled in with the control plane."""
