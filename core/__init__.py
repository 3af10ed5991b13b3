"""aiogoogle"""
