"""`ascend-lab doctor` (placeholder)."""
def register(subparsers):
    p = subparsers.add_parser("doctor", help="check the environment")
    p.set_defaults(func=lambda args: 0)
