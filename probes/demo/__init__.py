"""The simulated government portal: sites, columns, boards, services and a hotline call
robot on localhost, each knowing its ground truth. (Package layout owned by the demo work.)"""
