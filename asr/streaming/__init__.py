"""Streaming recognition: the chunk-by-chunk recogniser and its audio sources (WAV, raw PCM, microphone).

In: audio chunks of any size. Out: partial and final hypotheses as events, equal to offline decoding.
"""
