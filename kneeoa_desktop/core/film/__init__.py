"""The film: reading a radiograph (PNG, JPEG, TIFF, BMP, DICOM) into gray pixels and safe metadata.

Formats recognised by content, decoders, pixel limits and conversions, histogram percentiles,
the files a command line names, and the sample films shipped with the program.
"""
