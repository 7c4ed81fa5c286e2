"""One module per parser family; ``adapters.logs.router`` maps kinds to them."""
