"""Medication adherence: the Proportion of Days Covered (PQA method), pure and tested on its own."""
