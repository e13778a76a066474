"""The I/O edge: the only code that touches file descriptors, the environment and the OS."""
