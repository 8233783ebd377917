"""Help requests (群众求助): residents ask for help at a place; nearby volunteers offer it."""
