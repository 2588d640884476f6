"""SMS medication reminders: when each dose and refill reminder goes out, and the rows that send them."""
