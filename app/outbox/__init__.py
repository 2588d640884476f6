"""Events for the clinical data platform, written as rows in the transaction of what they record."""
