"""peerwire's local AWS emulator: the pinned moto server with patches that make it behave like AWS.

Run the package, not a module: `python emulator/launcher [...]` (see `__main__.py` for the usage).
Each service's patches live in their own module and register themselves with `registry.patch` on
import; `__main__` imports them all and applies them in `registry.ORDER`.
"""
