"""Small reusable input widgets shared by pages and sheets."""
