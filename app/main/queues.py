"""What waits for each member of staff: the counts behind the navigation badges and staff homes."""


def counts_for(user) -> dict[str, int]:
    """Counts by queue name for `user`'s role; an empty dict for roles without a queue."""
    return {}
