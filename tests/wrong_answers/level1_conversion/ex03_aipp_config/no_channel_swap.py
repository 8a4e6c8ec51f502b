# cell: aipp_bgr_config_answer
# fails: aipp_bgr_config_visible, aipp_bgr_config_hidden
# B, G, R means in the right order, but the frame's channels are never swapped: the model sees RGB.
AIPP_BGR = """
aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 288
    src_image_size_h : 256
    crop : true
    load_start_pos_h : 16
    load_start_pos_w : 32
    crop_size_w : 224
    crop_size_h : 224
    min_chn_0 : 103.94
    min_chn_1 : 116.78
    min_chn_2 : 123.68
    var_reci_chn_0 : 0.017
    var_reci_chn_1 : 0.017
    var_reci_chn_2 : 0.017
}
"""
