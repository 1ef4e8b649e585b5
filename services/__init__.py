"""The four Tandem services; they talk only through topics and HTTP, never by importing each other."""
