"""The in-app notification inbox and the channel port for WeChat / vendor push."""
