"""`boxcrawl audit DIR`: does every sample token of a dataset have ink under its box?"""
